"""Notices service (issue 15): owner lookup, ticket notices by e-mail, SMS and PDF, overdue fines.

See :mod:`services.notices.service`; run with ``python -m services.notices``.
"""
