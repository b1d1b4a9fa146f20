"""Analysis rules (MSH160-MSH199): conventions, injection, annotations and TLS hygiene."""
