# Convenience targets; the scripts install what they need (Debian, as root).
.PHONY: all setup demo test bench reproduce fuzz sanitize clean
all: setup
setup:
	bash scripts/setup.sh
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
reproduce:
	bash scripts/reproduce.sh
fuzz:
	bash scripts/fuzz.sh
sanitize:
	bash scripts/sanitize.sh
bench: setup
	cmake --build build --target bench
clean:
	rm -rf build build-fuzz build-sanitize
