-- A complaint filed without an account waits in its magic link until the
-- email is proven: the filing (JSON), NULL for a plain sign-in link.
ALTER TABLE magic_links ADD COLUMN filing TEXT NULL;
