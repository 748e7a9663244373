# The two commands (see README.md), and `make format` to apply .swift-format. Everything else is `swift build` / `.build/debug/ehcp`.
.PHONY: run test format
run:
	scripts/run.sh
test:
	scripts/test.sh
format:
	swift format format --in-place --recursive --parallel Sources Tests Fuzz Package.swift
