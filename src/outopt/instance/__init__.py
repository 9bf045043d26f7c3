"""The input format: the schema (:mod:`~outopt.instance.schema`), the cross-table checks
(:mod:`~outopt.instance.validation`), readers and writers of every file format (:mod:`~outopt.instance.io`),
company files (:mod:`~outopt.instance.company`) and the generators of synthetic and OR-Library instances
(:mod:`~outopt.instance.generate`, :mod:`~outopt.instance.orlib`)."""
