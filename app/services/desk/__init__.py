"""The staff desk: what the console's customer pages read and do across domains.

A customer's page gathers the customer record, its tags and label (tagging), its projects
(projects) and tasks and notice templates (notices); edits are audited and land on the
timeline. It sits above the other domains and is used by entry points only.
"""
