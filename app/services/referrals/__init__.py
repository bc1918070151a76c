"""口碑银行: referral codes, attribution, the credit ledger, VIP and fraud review (issue 14)."""
