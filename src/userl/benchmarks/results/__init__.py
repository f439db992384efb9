"""The results page, generated from the records kept under `docs/` (`userl bench report`):
`records` reads them, `learning` and `vla` render their sections, `page` puts
`docs/results.md` together, `headline` writes README's results block. Figures live in
records, never in prose: the page is rewritten, not edited, and a test fails when it is stale.
"""
