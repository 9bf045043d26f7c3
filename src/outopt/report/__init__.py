"""What a plan looks like to a reader: the terminal tables (:mod:`~outopt.report.terminal`), the result
tables as DataFrames (:mod:`~outopt.report.tables`), matplotlib charts (:mod:`~outopt.report.charts`),
the HTML report (:mod:`~outopt.report.html`) and the result files (:mod:`~outopt.report.files`)."""
