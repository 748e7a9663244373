# The two commands (see README.md). Everything else is `swift build` / `.build/debug/ehcp`.
.PHONY: run test
run:
	scripts/run.sh
test:
	scripts/test.sh
