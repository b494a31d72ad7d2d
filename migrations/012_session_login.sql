-- Each scs session row names the login it holds (the store writes it with
-- the session's data), so that reading the session can read who is asking
-- in the same statement. NULL when the session holds no login, and in rows
-- written before: those are read as before, with a statement more.
-- (docs/performance.md)
ALTER TABLE sessions ADD COLUMN login_id text;
