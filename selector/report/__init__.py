"""The run folder's reports: content as data, rendered by templates (HTML, Markdown), tables,
charts and the workbook."""
