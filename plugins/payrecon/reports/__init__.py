"""The finance report (issue 7): per window and for month close, built from the warehouse tables of
the reconciliation, rules, linking and follow-ups capabilities.

`build.build_report(engine, window_or_month, output_dir)` writes the archive (HTML with PNG charts,
a CSV per section, an XLSX workbook, the email as .eml) to `{output_dir}/reports/{label}/`;
`email.send_report` sends it. Plain Python: no Airflow here (the adapter reads the settings).
"""
