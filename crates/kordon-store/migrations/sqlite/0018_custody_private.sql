-- Custody events of version 2 (docs/spec/custody.md): the private part the public log
-- entry commits to (actor, full subject, detail, salt). Never served publicly; opened in
-- evidence packages. NULL for version 1 events, which are whole in the log.
ALTER TABLE custody ADD COLUMN private TEXT;
