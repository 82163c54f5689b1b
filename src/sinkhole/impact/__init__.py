"""Impact: did the spam stop? Mail logs and spam traps against what the sinkhole saw.

Mail operators already hold the evidence of a takedown's effect: their MTA logs
(Postfix, Exim, Sendmail), their spam traps (mbox, Maildir) and exports of
either (CSV). This room reads them as a stream, one parser module per format
(:mod:`.postfix`, :mod:`.exim`, :mod:`.sendmail`, :mod:`.mbox`, :mod:`.maildir`,
:mod:`.csvlog`), into one small table of (client address, second, kind, count),
and :mod:`.analysis` joins it with the addresses seen at the sinkhole (with a
time tolerance for address churn), per family, attributed to networks: messages
per hour from bot addresses against all, before and after the takedown.
"""

from __future__ import annotations

from sinkhole.impact.analysis import Report, analyse
from sinkhole.impact.ingest import FileReport, Mail, read

__all__ = ["FileReport", "Mail", "Report", "analyse", "read"]
