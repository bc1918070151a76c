"""客户价值 (customer value): high, normal or low from what is known of a customer (issue #17)."""
