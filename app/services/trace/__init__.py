"""Material traceability (溯源, issue 13): what this domain owns.

- catalog: suppliers, materials (category, brand, model, spec, unit) and their production
  batches with the inspection report's key results; the report file itself (reports),
  validated by content and kept through app.core.storage.
- codes: trace codes (溯源码) of a batch: random, unguessable, unique, serial-numbered; qr
  draws them (PNG, SVG) and labels lays them out on printable A4 label sheets (PDF).
- deliveries: 材料进场, a batch or a range of its serials assigned to a project, with the
  homeowner's timeline event and `material-delivered` notice; a project's material list.
- scans: the public scan page's reads and writes (the hot path; pagecache keeps the page's
  catalog part per process, scanbook the codes of the batches it serves and the scans it
  has not written yet), the homeowner seen through WeChat OAuth (oauth) or the mini
  program, coarse client info (clients), the scan page's rate limit (ratelimit); statistics
  and anomaly flags for staff (anomalies).

Uses customers (timeline, identities) and notices (the outbox); reads project rows through
the models, never the projects domain (the two are independent siblings).
"""
