-- X.509 certificates (the principals of MQTT connections on the TLS
-- listener), which things they are attached to, and the emulator's own CA.
-- Times are emulated epoch milliseconds except where noted.

-- The CA that signs every certificate the emulator issues, created once per
-- database. Its name keeps it through POST /_ddlocal/reset (store_reset()
-- spares emulator_* tables): certificates already handed out, and the TLS
-- listener's files, stay valid.
CREATE TABLE emulator_ca (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key_pem TEXT NOT NULL,                 -- PKCS#8 private key
    cert_pem TEXT NOT NULL,
    created_real_ms INTEGER NOT NULL       -- wall clock: TLS checks real time
);

-- cert_id is the lowercase hex SHA-256 of the certificate's DER, as AWS's
-- certificateId. seq orders ListCertificates by creation.
CREATE TABLE certificates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    cert_id TEXT NOT NULL UNIQUE CHECK (length(cert_id) = 64),
    pem TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_TRANSFER',
                                           'REGISTER_INACTIVE', 'PENDING_ACTIVATION')),
    generation_id TEXT NOT NULL,
    not_before_s INTEGER NOT NULL,         -- the certificate's own validity,
    not_after_s INTEGER NOT NULL,          -- epoch seconds
    created_ms INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);

-- AttachThingPrincipal. Deleting a thing that still has attachments is
-- refused (InvalidRequestException, as AWS; store_thing_delete checks), and
-- so is deleting a certificate that is still attached
-- (DeleteConflictException). The cascade stays only as a safety net.
CREATE TABLE thing_principals (
    thing_name TEXT NOT NULL REFERENCES things (name) ON DELETE CASCADE,
    cert_id TEXT NOT NULL REFERENCES certificates (cert_id),
    PRIMARY KEY (thing_name, cert_id)
) WITHOUT ROWID;
CREATE INDEX thing_principals_by_cert ON thing_principals (cert_id, thing_name);
