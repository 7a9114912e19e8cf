"""What the lab writes and reads back: the benchmark record, the failure-modes table, the advice and the report's
summary, each with `to_dict`/`from_dict`, and their schema versions checked one way (`versions`).

Report and advise meet here and nowhere else: advise writes an `Advice`, the report reads it and shows it with
`advice_text`, the same words `concurrency-lab advise` prints.
"""
