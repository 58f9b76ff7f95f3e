-- Registered CA certificates (RegisterCACertificate and its family), the
-- account's registration code, and revocation at the issuer: the serials a
-- CA has put on its certificate revocation list (CRL). The last is what
-- the Audit checks REVOKED_*_STILL_ACTIVE read; it is not IoT's REVOKED
-- status. Times are emulated epoch milliseconds except where noted.

-- cert_id is the lowercase hex SHA-256 of the CA certificate's DER, as
-- AWS's caCertificateId. subject and issuer are the certificate's names
-- (RFC 2253 text) and serial its serial number (lowercase hex), for the
-- limit of 10 CAs per subject and for finding a CA's issuer's CRL.
CREATE TABLE ca_certificates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    cert_id TEXT NOT NULL UNIQUE CHECK (length(cert_id) = 64),
    pem TEXT NOT NULL,
    subject TEXT NOT NULL,
    issuer TEXT NOT NULL,
    serial TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE')),
    auto_registration TEXT NOT NULL CHECK (auto_registration IN ('ENABLE', 'DISABLE')),
    mode TEXT NOT NULL CHECK (mode IN ('DEFAULT', 'SNI_ONLY')),
    generation_id TEXT NOT NULL,
    customer_version INTEGER NOT NULL DEFAULT 1,
    registration_config TEXT,              -- JSON object, NULL when none
    not_before_s INTEGER NOT NULL,         -- the certificate's own validity,
    not_after_s INTEGER NOT NULL,          -- epoch seconds (real time)
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);
CREATE INDEX ca_certificates_by_subject ON ca_certificates (subject);
CREATE INDEX certificates_by_ca ON certificates (ca_cert_id, seq);

CREATE TRIGGER ca_certificates_drop_tags AFTER DELETE ON ca_certificates BEGIN
    DELETE FROM tags WHERE substr(arn, -length(':cacert/' || OLD.cert_id))
        = ':cacert/' || OLD.cert_id;
END;

-- GetRegistrationCode: one code per account and region, made on first use.
CREATE TABLE ca_registration_code (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    code TEXT NOT NULL
);

-- Revocation at the issuer. issuer is the issuing CA's subject (RFC 2253
-- text, as a certificate's issuer name reads), serial the revoked
-- certificate's serial number (lowercase hex). Rows come from
-- POST /_ddlocal/ca/revoke (the emulator's own CA) or from a CRL uploaded
-- for a registered CA, which replaces that CA's rows; crl_pem keeps the
-- uploaded CRL. revoked_real_s is wall-clock time, as in a CRL.
CREATE TABLE issuer_revocations (
    issuer TEXT NOT NULL,
    serial TEXT NOT NULL,
    revoked_real_s INTEGER NOT NULL,
    PRIMARY KEY (issuer, serial)
) WITHOUT ROWID;

CREATE TABLE issuer_crls (
    issuer TEXT PRIMARY KEY,
    crl_pem TEXT NOT NULL,
    uploaded_ms INTEGER NOT NULL
);
