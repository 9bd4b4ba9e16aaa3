"""gongkai: document intake and disclosure classification for 政府信息公开.

The parts (ARCHITECTURE.md has the arrows and what must never import what):

- ``service.parsers``: the one contract format plugins implement (a stable address);
- ``service.parsing``: plugin registry, type sniffing, the sandbox and its parse server;
- ``service.analysis``: cleaning, normalization, 公文 fields, marks, privacy, the tokenizer;
- ``service.classifier``: features, the model, explanations, the model store, training;
- ``service.pipeline``: every step one file goes through, top to bottom;
- the flat core: documents and their states, review, publication, audit, accounts, search,
  report, storage, queue and jobs, the database;
- ``service.web``: the Flask application (pages and the REST API); ``service.cli``: ``gongkai``.
"""
