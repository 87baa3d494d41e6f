"""Commerce pages, one module per idea: order entry and credit decisions, invoices and payments,
the account statement and collection work, receivables, and the product catalogue.

Views parse with the forms, act through ``services`` and ``collection``, read through
``selectors``; amounts are formatted here with ``money.format_money`` so templates only print.
"""
