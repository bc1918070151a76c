"""Core helpers below every domain: database, config, errors, queue, WeChat protocol and clients."""
