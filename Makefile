# libmemphis build entry points. See README.md.
GO        ?= go
BUILD     := build
SOVERSION := 1
LIBFILE   := libmemphis.so.$(SOVERSION)

.PHONY: all broker lib demo test deps clean

all: broker lib cli

# Go's own build cache makes these cheap to re-run, so they are always invoked.
broker:
	@mkdir -p $(BUILD)/bin
	$(GO) build -o $(BUILD)/bin/memphis-devbroker ./cmd/memphis-devbroker
cli: ; $(GO) build -o $(BUILD)/bin/memphis ./cmd/memphis

# libmemphis.so: the sdk exported with cgo. The cgo-generated header is internal;
# the public header is the hand-written include/memphis.h.
lib:
	@if [ ! -d capi ]; then echo "SKIP: capi/ not present, libmemphis.so not built"; exit 0; fi; \
	set -e; mkdir -p $(BUILD)/lib $(BUILD)/include $(BUILD)/internal; \
	$(GO) build -buildmode=c-shared \
		-ldflags "-extldflags '-Wl,-soname,$(LIBFILE) -Wl,--version-script=$(CURDIR)/capi/libmemphis.map'" \
		-o $(BUILD)/lib/$(LIBFILE) ./capi; \
	mv -f $(BUILD)/lib/libmemphis.so.h $(BUILD)/internal/libmemphis_cgo.h 2>/dev/null || true; \
	mv -f $(BUILD)/lib/$(LIBFILE:.so.$(SOVERSION)=).h $(BUILD)/internal/ 2>/dev/null || true; \
	ln -sf $(LIBFILE) $(BUILD)/lib/libmemphis.so; \
	cp include/memphis.h $(BUILD)/include/memphis.h

deps:
	bash scripts/install-deps.sh

demo: all
	bash scripts/demo.sh

test: deps all
	bash scripts/run-tests.sh

clean:
	rm -rf $(BUILD)
