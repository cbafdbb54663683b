"""Escalation: the policy, the ladder of dated rungs, and the pure decision of what is due now."""
