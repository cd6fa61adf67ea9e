"""xlcomplaints: complaint registers in Excel, validated and kept up to date."""

__version__ = "0.1.0"
