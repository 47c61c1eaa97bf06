-- People, their sessions and API tokens. Secrets are stored only as hashes: Argon2id for
-- passwords, SHA-256 for session ids and API tokens (random, 256 bits).

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,            -- officer | supervisor | analyst | auditor | administrator | integration
    checkpoints   TEXT NOT NULL,            -- ';'-separated crossing point codes, or '*' for all
    officer       TEXT,                     -- the officer's service number (role officer)
    password_hash TEXT NOT NULL,            -- PHC string, Argon2id
    totp_secret   TEXT,                     -- base32, when a second factor is set up
    failed        INTEGER NOT NULL DEFAULT 0,
    locked_until  BIGINT,
    created_at    BIGINT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL,
    csrf          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);

CREATE TABLE api_tokens (
    token_hash    TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL,
    label         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
