-- RegisterCertificate with caCertificatePem: the id (lowercase hex SHA-256
-- of the DER, as AWS's caCertificateId) of the CA certificate that signed a
-- registered certificate. NULL when unknown: issued by the emulator, or
-- registered without a CA.
ALTER TABLE certificates ADD COLUMN ca_cert_id TEXT CHECK (ca_cert_id IS NULL OR
                                                           length(ca_cert_id) = 64);
