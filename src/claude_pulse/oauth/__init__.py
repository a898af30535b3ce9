"""OAuth 2.0 authorization-code flow with PKCE (RFC 6749, RFC 7636, RFC 8252 loopback)."""
