-- What the audit's certificate checks need from a device certificate's
-- PEM, computed once when it is stored (store_cert_create) instead of
-- parsing 100,000 certificates on every audit: its issuer name (RFC 2253)
-- and serial (lowercase hex) as the CRL rows of issuer_revocations key
-- them (REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK), and whether its key
-- is weak (1: an RSA modulus with the ROCA fingerprint, 0: not;
-- DEVICE_CERTIFICATE_KEY_QUALITY_CHECK). notBefore and notAfter already
-- have columns. weak_key NULL means not inspected yet: SQL cannot parse
-- X.509, so the rows stored before this migration are inspected by the
-- next audit run (store_audit_run_next), once, and kept.
ALTER TABLE certificates ADD COLUMN issuer TEXT;
ALTER TABLE certificates ADD COLUMN serial TEXT;
ALTER TABLE certificates ADD COLUMN weak_key INTEGER CHECK (weak_key IS NULL OR weak_key IN (0, 1));
CREATE INDEX certificates_uninspected ON certificates (seq) WHERE weak_key IS NULL;
