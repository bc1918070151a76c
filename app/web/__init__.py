"""Public HTTP endpoints that are not an API: health checks, signed media."""
