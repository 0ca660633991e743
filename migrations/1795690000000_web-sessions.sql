-- Web sessions are credentials like API tokens: same table, same revocation (revoked_at), plus a kind
-- (which prefix and which transport may present it) and an expiry. API tokens never expire.
ALTER TABLE tokens ADD COLUMN kind text NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'session'));
ALTER TABLE tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE tokens ADD CONSTRAINT tokens_session_expires CHECK (kind = 'api' OR expires_at IS NOT NULL);

-- Sign-in links: only sha256(code) is kept; a code is redeemed once (used_at) before expires_at.
CREATE TABLE signin_codes (
  code_hash   bytea PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users(id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
CREATE INDEX signin_codes_open ON signin_codes(user_id) WHERE used_at IS NULL;
