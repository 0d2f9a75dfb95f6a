# certkeeper: build, install and check. `make install DESTDIR=/tmp/stage PREFIX=/usr` for packaging.
PREFIX ?= /usr
SYSCONFDIR ?= /etc
DESTDIR ?=
SWIFT ?= swift
# Each function (Swift, C and C++) in its own section, so the linker can place the ones the daemon runs together
# (link/certkeeper.order; see Package.swift). scripts/lib.sh release_build uses the same flags.
SECTION_FLAGS = -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections -Xcxx -ffunction-sections
SWIFT_BUILD_FLAGS ?= -c release --static-swift-stdlib $(SECTION_FLAGS)

BINDIR := $(PREFIX)/bin
UNITDIR := $(PREFIX)/lib/systemd/system
SYSUSERSDIR := $(PREFIX)/lib/sysusers.d
TMPFILESDIR := $(PREFIX)/lib/tmpfiles.d
CATALOGDIR := $(PREFIX)/lib/systemd/catalog
DOCDIR := $(PREFIX)/share/doc/certkeeper
MANDIR := $(PREFIX)/share/man
BASHCOMPDIR := $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR := $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR := $(PREFIX)/share/fish/vendor_completions.d
BINARY = $(shell $(SWIFT) build $(SWIFT_BUILD_FLAGS) --show-bin-path)/certkeeper
# Generated documentation and completions (kept out of git like every .build* directory).
GEN := .build-doc
MAN_PAGES := $(GEN)/man/certkeeper.8 $(GEN)/man/certkeeper.toml.5
COMPLETIONS := $(GEN)/completions/certkeeper.bash $(GEN)/completions/_certkeeper $(GEN)/completions/certkeeper.fish

.PHONY: all build man completions test check-unit install uninstall

all: build man completions

build:
	$(SWIFT) build $(SWIFT_BUILD_FLAGS) --product certkeeper

# Man pages from their scdoc sources in docs/man/ (Debian: apt-get install scdoc).
man: $(MAN_PAGES)

$(GEN)/man/%: docs/man/%.scd
	@command -v scdoc >/dev/null || { echo "make man: scdoc is missing; apt-get install scdoc" >&2; exit 1; }
	@mkdir -p $(GEN)/man
	scdoc < $< > $@.tmp && mv $@.tmp $@

# Shell completions generated from the argument parser of the built binary (run `make build` first).
completions:
	@test -x "$(BINARY)" || { echo "make completions: $(BINARY) is missing; run 'make build' first" >&2; exit 1; }
	@mkdir -p $(GEN)/completions
	# bash-completion sources the file: no #! line (Debian policy; lintian bash-completion-with-hashbang).
	"$(BINARY)" --generate-completion-script bash | sed '1{/^#!/d}' > $(GEN)/completions/certkeeper.bash
	"$(BINARY)" --generate-completion-script zsh > $(GEN)/completions/_certkeeper
	"$(BINARY)" --generate-completion-script fish > $(GEN)/completions/certkeeper.fish

test:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

check-unit:
	sh scripts/check-unit.sh systemd

# Installs the binary, systemd units, sysusers/tmpfiles entries, catalog and docs; the example configuration
# (etc/certkeeper/ in the source tree, when present) only where no file exists yet, so local edits survive.
install: man completions
	@test -x "$(BINARY)" || { echo "make install: $(BINARY) is missing; run 'make build' first" >&2; exit 1; }
	install -D -m 0755 "$(BINARY)" "$(DESTDIR)$(BINDIR)/certkeeper"
	install -D -m 0644 $(GEN)/man/certkeeper.8 "$(DESTDIR)$(MANDIR)/man8/certkeeper.8"
	install -D -m 0644 $(GEN)/man/certkeeper.toml.5 "$(DESTDIR)$(MANDIR)/man5/certkeeper.toml.5"
	install -D -m 0644 $(GEN)/completions/certkeeper.bash "$(DESTDIR)$(BASHCOMPDIR)/certkeeper"
	install -D -m 0644 $(GEN)/completions/_certkeeper "$(DESTDIR)$(ZSHCOMPDIR)/_certkeeper"
	install -D -m 0644 $(GEN)/completions/certkeeper.fish "$(DESTDIR)$(FISHCOMPDIR)/certkeeper.fish"
	install -D -m 0644 systemd/certkeeper.service "$(DESTDIR)$(UNITDIR)/certkeeper.service"
	install -D -m 0644 systemd/certkeeper-reload@.path "$(DESTDIR)$(UNITDIR)/certkeeper-reload@.path"
	install -D -m 0644 systemd/certkeeper-reload@.service "$(DESTDIR)$(UNITDIR)/certkeeper-reload@.service"
	install -D -m 0644 systemd/certkeeper.sysusers "$(DESTDIR)$(SYSUSERSDIR)/certkeeper.conf"
	install -D -m 0644 systemd/certkeeper.tmpfiles "$(DESTDIR)$(TMPFILESDIR)/certkeeper.conf"
	install -D -m 0644 systemd/certkeeper.catalog "$(DESTDIR)$(CATALOGDIR)/certkeeper.catalog"
	install -D -m 0644 systemd/README.md "$(DESTDIR)$(DOCDIR)/systemd/README.md"
	install -D -m 0644 docs/dns-providers.md "$(DESTDIR)$(DOCDIR)/dns-providers.md"
	install -D -m 0644 etc/prometheus/certkeeper-alerts.yml "$(DESTDIR)$(DOCDIR)/prometheus/certkeeper-alerts.yml"
	install -D -m 0644 etc/prometheus/certkeeper-alerts.test.yml "$(DESTDIR)$(DOCDIR)/prometheus/certkeeper-alerts.test.yml"
	@if [ -d etc/certkeeper ]; then \
		cd etc/certkeeper && find . -type f | while read -r file; do \
			target="$(DESTDIR)$(SYSCONFDIR)/certkeeper/$${file#./}"; \
			if [ -e "$$target" ]; then \
				echo "keeping existing $$target"; \
			else \
				install -D -m 0640 "$$file" "$$target" && echo "installed $$target"; \
			fi; \
		done; \
	else \
		echo "no etc/certkeeper in the source tree: no example configuration installed"; \
	fi
	@if [ -z "$(DESTDIR)" ]; then \
		echo "now run: systemd-sysusers certkeeper.conf; systemd-tmpfiles --create certkeeper.conf;"; \
		echo "         journalctl --update-catalog; systemctl daemon-reload"; \
	fi

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/certkeeper" "$(DESTDIR)$(UNITDIR)/certkeeper.service" \
		"$(DESTDIR)$(UNITDIR)/certkeeper-reload@.path" "$(DESTDIR)$(UNITDIR)/certkeeper-reload@.service" \
		"$(DESTDIR)$(SYSUSERSDIR)/certkeeper.conf" "$(DESTDIR)$(TMPFILESDIR)/certkeeper.conf" \
		"$(DESTDIR)$(CATALOGDIR)/certkeeper.catalog" "$(DESTDIR)$(DOCDIR)/systemd/README.md" \
		"$(DESTDIR)$(DOCDIR)/dns-providers.md" \
		"$(DESTDIR)$(MANDIR)/man8/certkeeper.8" "$(DESTDIR)$(MANDIR)/man5/certkeeper.toml.5" \
		"$(DESTDIR)$(BASHCOMPDIR)/certkeeper" "$(DESTDIR)$(ZSHCOMPDIR)/_certkeeper" \
		"$(DESTDIR)$(FISHCOMPDIR)/certkeeper.fish" "$(DESTDIR)$(DOCDIR)/prometheus/certkeeper-alerts.yml" \
		"$(DESTDIR)$(DOCDIR)/prometheus/certkeeper-alerts.test.yml"
