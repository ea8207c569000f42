"""The service workflow: lifecycle, rules, assignment, SLA, surveys, templates (issue 12)."""
