"""Alerts: conditions on the durable feed, and the channels that deliver their firings."""
