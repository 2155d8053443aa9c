
/** Tests call it by its old name; the one implementation is provisioning/localCentral.ts. */
export { writeLocalCentral as writeCentralSite } from '../../../provisioning/localCentral.js';

/**
 * A self-signed certificate for localhost / 127.0.0.1 valid until 2126 (P-256), made once
 * with `openssl req -x509 -newkey ec ...` so the TLS tests need no openssl at run time.
 * Test material only: it protects nothing.
 */
export const testCertificate = `-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUQWhGrgzhrVYv4Cwu1M3913oBohkwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMzExMTIzNloYDzIxMjYxMDMw
MTExMjM2WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAT5ItmvxTjCRxD2CsyMLrXyAcoS7MAvqqdNrV4Z7feSnR0POgpjnGeo
0n0qL0XVHoJONTq4/6foc9x5Dt7GlrzKo28wbTAdBgNVHQ4EFgQUk+0CaAK5gA2t
qozMVtNqBYo3y0cwHwYDVR0jBBgwFoAUk+0CaAK5gA2tqozMVtNqBYo3y0cwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDRwAwRAIgYD9yPfeXR4c4wOq3KKQKSS2+KPxS19obKQ1YnprzbGQCIFEe
m94d/lwGLQvfVvCI//gmZSDy9+r5PKcKP3UGPhEH
-----END CERTIFICATE-----
`;

export const testCertificateKey = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSRtNs6GhljQDp98z
t7MH1oXaWA8eg7yHHk9VjJGSQY+hRANCAAT5ItmvxTjCRxD2CsyMLrXyAcoS7MAv
qqdNrV4Z7feSnR0POgpjnGeo0n0qL0XVHoJONTq4/6foc9x5Dt7GlrzK
-----END PRIVATE KEY-----
`;
