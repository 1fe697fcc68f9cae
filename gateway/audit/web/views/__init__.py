"""The pages of the auditors' web page, one blueprint per area: :mod:`.auth` (login,
logout, password), :mod:`.decisions` (search, one decision, CSV export), :mod:`.reports`
(monthly report, chain check) and :mod:`.metrics` (Prometheus)."""
