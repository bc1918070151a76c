"""The sales workflow (issue 16): lead capture and assignment, the response SLA counted in
working time, follow-ups and their reminders, and the lead pool (公海)."""
