"""Every byte in and out of the seller's file: read (calamine, CSV), header mapping, cell values,
the write plan, the lossless .xlsx patcher, the live Excel book, locks and atomic saves."""
