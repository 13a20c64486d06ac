"""The HTTP API for analysts and scripts (bearer tokens), described by OpenAPI."""
