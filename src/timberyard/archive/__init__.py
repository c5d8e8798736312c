"""Archives: each account's lines, hourly, to storage the customer owns, with signed digests.

layout (object names), envelope (client-side encryption), destination/localdir/s3 (where the
bytes go), digest (the signed chain), exporter (the exactly-once job), verify (the auditor's
check), config (an account's settings as the API takes and shows them).
"""
