"""Timberyard: self-hosted log management on embedded ClickHouse."""

__version__ = "0.1.0"
