"""Delivery to downstream systems: PostgreSQL for BI, and the CRM webhook sync."""
