-- The last TOTP time step a user signed in with (issue 15): a code is accepted once, as
-- RFC 6238 §5.2 asks; a second sign-in with the same code within its window is refused.
ALTER TABLE users ADD COLUMN totp_step BIGINT;
