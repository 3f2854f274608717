# make install / make uninstall: the agent, kotel-run, its man page and the
# docs (see docs/install.md).
#   PREFIX   /usr/local     DESTDIR  staging root (packaging, tests)
#   LIBDIR   $(PREFIX)/lib  BINDIR   $(PREFIX)/bin
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/kotel
INSTALL ?= install

DOC_FILES := README.md $(wildcard docs/*.md)

.PHONY: install uninstall

# kotel-run finds the library relative to itself: LIBDIR as seen from BINDIR.
install: $(LIB)
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL) -m 0644 $(LIB) $(DESTDIR)$(LIBDIR)/libkotel.so
	sed 's|^libdir_from_bin=.*|libdir_from_bin=$(shell realpath -m --relative-to=$(BINDIR) $(LIBDIR))|' \
	    scripts/kotel-run > $(DESTDIR)$(BINDIR)/kotel-run.tmp
	chmod 0755 $(DESTDIR)$(BINDIR)/kotel-run.tmp
	mv -f $(DESTDIR)$(BINDIR)/kotel-run.tmp $(DESTDIR)$(BINDIR)/kotel-run
	$(INSTALL) -m 0644 docs/kotel-run.1 $(DESTDIR)$(MANDIR)/man1/kotel-run.1
	$(INSTALL) -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	sed 's|/usr/local/lib/libkotel.so|$(LIBDIR)/libkotel.so|' \
	    scripts/systemd/kotel.conf > $(DESTDIR)$(DOCDIR)/examples/kotel.conf
	chmod 0644 $(DESTDIR)$(DOCDIR)/examples/kotel.conf

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libkotel.so $(DESTDIR)$(BINDIR)/kotel-run \
	    $(DESTDIR)$(MANDIR)/man1/kotel-run.1
	rm -rf $(DESTDIR)$(DOCDIR)
