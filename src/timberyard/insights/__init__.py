"""Insights: log templates mined online from the stream (anomaly detection builds on them)."""
