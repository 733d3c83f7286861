# Makefile - liblowrank, hand-written GNU make.
#
#   make                 the libraries, the tools and the man pages (liblowrank_mpi
#                        and lowrank-mpi too when configure found MPI)
#   make check           unit tests (Check) and tool tests
#   make check-asan      the same, built with AddressSanitizer + UBSan in build-asan/
#   make check-valgrind  the unit tests under valgrind
#   make check-tsan      the unit tests and a threads test under ThreadSanitizer
#   make fuzz            the libFuzzer harnesses of fuzz/, each for FUZZ_SECONDS
#   make bench           the benchmark programs in bench/ (not run by make check)
#   make demo            compress the bundled layer, subtract the bundled video's background
#   make install         DESTDIR, prefix, libdir, mandir, ... as usual
#
# ./configure writes config.mk; on a fresh clone the first make runs autoconf
# and configure with defaults.  Outputs go below $(B) (default: here).

.DEFAULT_GOAL := all
srcdir := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
B ?= .

NO_CONFIG_GOALS := clean distclean
ifeq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
-include config.mk
else
include config.mk
endif

# ------------------------------------------------------------ bootstrapping
$(srcdir)/configure: $(srcdir)/configure.ac
	cd $(srcdir) && autoconf
	rm -rf $(srcdir)/autom4te.cache

config.mk: $(srcdir)/configure $(srcdir)/config.mk.in
	if [ -x config.status ]; then ./config.status --recheck && ./config.status; \
	else $(srcdir)/configure; fi

# ------------------------------------------------------------ flags
VERSION_MAJOR := $(word 1,$(subst ., ,$(VERSION)))
SONAME := liblowrank.so.$(VERSION_MAJOR)
SOFILE := liblowrank.so.$(VERSION)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
        -Wvla -Wpointer-arith -Wcast-qual
ifeq ($(SANITIZE),thread)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
else ifdef SANITIZE
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else
OPT := -O2 -g
endif
# The project's flags first, the user's CFLAGS/CPPFLAGS/LDFLAGS last.
ALL_CPPFLAGS = -I$(srcdir)/include $(LINALG_CFLAGS) $(ZLIB_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(OPT) -fPIC -fvisibility=hidden $(WARN) -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(OPT) $(LDFLAGS)

# ------------------------------------------------------------ library
# What the library links: BLAS/LAPACK(E), libm, pthreads, and zlib for .npz files.
LIB_LIBS = $(ZLIB_LIBS) $(LINALG_LIBS)
# One line per part, so that parts added side by side merge cleanly.
LIB_PARTS := core
LIB_PARTS += matrix
LIB_PARTS += npy
LIB_PARTS += opts
LIB_PARTS += progress
LIB_PARTS += blas
LIB_PARTS += random
LIB_PARTS += factors
LIB_PARTS += svd
LIB_PARTS += svd_krylov
LIB_PARTS += svd_exact
LIB_PARTS += svd_operator
LIB_PARTS += ellipsoid
LIB_PARTS += rounding
LIB_PARTS += coreset
LIB_PARTS += lp
LIB_PARTS += lp_entries
LIB_PARTS += threads
LIB_PARTS += operator
LIB_PARTS += csr
LIB_PARTS += npz
LIB_PARTS += operator_npy
LIB_PARTS += lp_op
LIB_PARTS += lp_space
LIB_PARTS += lp_search
LIB_PARTS += background
LIB_PARTS += bg_train
LIB_PARTS += bg_register
LIB_PARTS += bg_masks
LIB_PARTS += bg_update
LIB_PARTS += stats
LIB_PARTS += compress
LIB_OBJS := $(LIB_PARTS:%=$(B)/lib/%.o)

# x86-64: the background model's per-frame passes a second time for AVX2,
# chosen at run time (lib/background.h).  No -mfma: the same arithmetic as
# the baseline build, so the same masks on every x86-64 processor.
ifneq ($(filter x86_64-%,$(shell $(CC) -dumpmachine)),)
BG_AVX2_PARTS := bg_masks bg_update
LIB_OBJS += $(BG_AVX2_PARTS:%=$(B)/lib/%_avx2.o)
$(B)/lib/background.o: ALL_CPPFLAGS += -DLR_BG_AVX2
$(B)/lib/%_avx2.o: $(srcdir)/lib/%.c | $(B)/lib
	$(CC) $(ALL_CPPFLAGS) -DLR_BG_SUFFIX=_avx2 $(ALL_CFLAGS) -ftree-vectorize -fno-math-errno \
	    -mavx2 -c -o $@ $<
endif

$(B)/lib/%.o: $(srcdir)/lib/%.c | $(B)/lib
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The background model's per-pixel loops run on every frame of a video, the
# lp fit's element-wise passes on every entry at every step: let GCC
# vectorise them as clang does at -O2.
$(B)/lib/bg_masks.o $(B)/lib/bg_update.o $(B)/lib/lp_entries.o $(B)/lib/csr.o: ALL_CFLAGS += -ftree-vectorize
# sqrtf and friends without errno (never read), so that their loops vectorise.
$(B)/lib/bg_masks.o $(B)/lib/bg_update.o: ALL_CFLAGS += -fno-math-errno

$(B)/lib/$(SOFILE): $(LIB_OBJS) $(srcdir)/lib/lowrank.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(srcdir)/lib/lowrank.map \
	    -Wl,-z,defs $(ALL_LDFLAGS) -o $@ $(LIB_OBJS) $(LIB_LIBS)

$(B)/lib/$(SONAME): $(B)/lib/$(SOFILE)
	ln -sf $(SOFILE) $@

$(B)/lib/liblowrank.so: $(B)/lib/$(SONAME)
	ln -sf $(SONAME) $@

$(B)/lib/liblowrank.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

LIBS_BUILT := $(B)/lib/liblowrank.so $(B)/lib/liblowrank.a

# pkg-config file, rewritten whenever the installation directories change
# (`make install prefix=/usr` after configuring for /usr/local included).
$(B)/lowrank.pc: $(srcdir)/lowrank.pc.in FORCE
	sed -e 's|@prefix@|$(prefix)|' -e 's|@exec_prefix@|$(exec_prefix)|' \
	    -e 's|@libdir@|$(libdir)|' -e 's|@includedir@|$(includedir)|' \
	    -e 's|@PACKAGE_VERSION@|$(VERSION)|' -e 's|@LINALG_LIBS@|$(LIB_LIBS)|' $< > $@.tmp
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# CMake package files (find_package(lowrank)), rewritten like lowrank.pc.
# The config file finds the library and header relative to its own
# directory, so it survives DESTDIR staging and relocation.
cmakedir = $(libdir)/cmake/lowrank
CMAKE_FILES := $(B)/lowrankConfig.cmake $(B)/lowrankConfigVersion.cmake
relative_to_cmakedir = $(shell realpath -m --relative-to=$(cmakedir) $(1))

$(B)/%.cmake: $(srcdir)/%.cmake.in FORCE
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@VERSION_MAJOR@|$(VERSION_MAJOR)|g' \
	    -e 's|@SONAME_MAJOR@|$(VERSION_MAJOR)|g' -e 's|@LINALG_LIBS@|$(LINALG_LIBS)|' \
	    -e 's|@SIZEOF_VOID_P@|$(SIZEOF_VOID_P)|' \
	    -e 's|@LIBDIR_FROM_HERE@|$(call relative_to_cmakedir,$(libdir))|' \
	    -e 's|@INCLUDEDIR_FROM_HERE@|$(call relative_to_cmakedir,$(includedir))|' $< > $@.tmp
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# ------------------------------------------------------------ tool
TOOL_PARTS := lowrank
TOOL_PARTS += info
TOOL_PARTS += svd
TOOL_PARTS += lp
TOOL_PARTS += args
TOOL_PARTS += input
TOOL_PARTS += mvee
TOOL_PARTS += ellipsoid
TOOL_PARTS += coreset
TOOL_PARTS += background
TOOL_PARTS += image
TOOL_PARTS += allocate
TOOL_PARTS += inputs
TOOL_PARTS += progress
TOOL_OBJS := $(TOOL_PARTS:%=$(B)/tools/%.o)

$(B)/tools/%.o: $(srcdir)/tools/%.c | $(B)/tools
	$(CC) $(ALL_CPPFLAGS) $(IMAGE_CFLAGS) $(ALL_CFLAGS) -fvisibility=default -c -o $@ $<

# Linked against the shared library, without an rpath: in the build tree run
# it with LD_LIBRARY_PATH=$(B)/lib (the tests and `make demo` do).
$(B)/tools/lowrank: $(TOOL_OBJS) $(B)/lib/liblowrank.so
	$(CC) $(ALL_LDFLAGS) -o $@ $(TOOL_OBJS) -L$(B)/lib -llowrank $(IMAGE_LIBS) -lm

# ------------------------------------------------------------ liblowrank_mpi
# The distributed library beside liblowrank (mpi/, docs/mpi.md), built when
# configure found MPI.  It compiles in liblowrank's internal BLAS layer and
# generator under its own names (mpi/rename.h) and calls liblowrank itself
# through the public API only; liblowrank never sees MPI.
MPI_SONAME := liblowrank_mpi.so.$(VERSION_MAJOR)
MPI_SOFILE := liblowrank_mpi.so.$(VERSION)
MPI_PARTS := comm
MPI_PARTS += setup
MPI_PARTS += block
MPI_PARTS += tsqr
MPI_PARTS += svd
MPI_PARTS += lp
MPI_SHARED_PARTS := blas random
MPI_OBJS := $(MPI_PARTS:%=$(B)/mpi/%.o) $(MPI_SHARED_PARTS:%=$(B)/mpi/lib_%.o)
MPI_CPPFLAGS = -include $(srcdir)/mpi/rename.h -I$(srcdir)/mpi -I$(srcdir)/lib $(ALL_CPPFLAGS) \
               $(MPI_CFLAGS)

$(B)/mpi/%.o: $(srcdir)/mpi/%.c | $(B)/mpi
	$(CC) $(MPI_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/mpi/lib_%.o: $(srcdir)/lib/%.c | $(B)/mpi
	$(CC) $(MPI_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/mpi/$(MPI_SOFILE): $(MPI_OBJS) $(srcdir)/mpi/lowrank_mpi.map $(B)/lib/liblowrank.so
	$(CC) -shared -Wl,-soname,$(MPI_SONAME) -Wl,--version-script=$(srcdir)/mpi/lowrank_mpi.map \
	    -Wl,-z,defs $(ALL_LDFLAGS) -o $@ $(MPI_OBJS) -L$(B)/lib -llowrank $(MPI_LIBS) $(LINALG_LIBS)

$(B)/mpi/$(MPI_SONAME): $(B)/mpi/$(MPI_SOFILE)
	ln -sf $(MPI_SOFILE) $@

$(B)/mpi/liblowrank_mpi.so: $(B)/mpi/$(MPI_SONAME)
	ln -sf $(MPI_SONAME) $@

$(B)/mpi/liblowrank_mpi.a: $(MPI_OBJS)
	rm -f $@
	$(AR) rcs $@ $(MPI_OBJS)

# Requires the MPI module configure found, or carries the flags of mpicc.
$(B)/lowrank-mpi.pc: $(srcdir)/lowrank-mpi.pc.in FORCE
	sed -e 's|@prefix@|$(prefix)|' -e 's|@exec_prefix@|$(exec_prefix)|' \
	    -e 's|@libdir@|$(libdir)|' -e 's|@includedir@|$(includedir)|' \
	    -e 's|@PACKAGE_VERSION@|$(VERSION)|' \
	    -e 's|@MPI_REQUIRES@|$(if $(MPI_PC),$(comma) $(MPI_PC))|' \
	    -e 's|@MPI_LIBS@|$(if $(MPI_PC),,$(space)$(strip $(MPI_LIBS)))|' \
	    -e 's|@MPI_CFLAGS@|$(if $(MPI_PC),,$(space)$(strip $(MPI_CFLAGS)))|' $< > $@.tmp
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
comma := ,
space := $(subst ,, )

# lowrank-mpi, on the public APIs of both libraries and the tool's parser.
MPI_TOOL_OBJS := $(B)/tools/lowrank-mpi.o $(B)/tools/args.o

$(B)/tools/lowrank-mpi.o: $(srcdir)/tools/lowrank-mpi.c | $(B)/tools
	$(CC) -I$(srcdir)/mpi $(ALL_CPPFLAGS) $(MPI_CFLAGS) $(ALL_CFLAGS) -fvisibility=default -c \
	    -o $@ $<

$(B)/tools/lowrank-mpi: $(MPI_TOOL_OBJS) $(B)/mpi/liblowrank_mpi.so
	$(CC) $(ALL_LDFLAGS) -o $@ $(MPI_TOOL_OBJS) -L$(B)/mpi -L$(B)/lib -llowrank_mpi -llowrank \
	    $(MPI_LIBS) -lm

MPI_BUILT := $(B)/mpi/liblowrank_mpi.so $(B)/mpi/liblowrank_mpi.a $(B)/lowrank-mpi.pc \
             $(B)/tools/lowrank-mpi
ifneq ($(HAVE_MPI),yes)
MPI_BUILT :=
endif

# ------------------------------------------------------------ man pages
# liblowrank_mpi's pages (mpi/man) are built and installed with it.
MAN_SRCS := $(notdir $(wildcard $(srcdir)/man/*.scd))
MPI_MAN_SRCS := $(notdir $(wildcard $(srcdir)/mpi/man/*.scd))
MAN_PAGES := $(MAN_SRCS:%.scd=$(B)/man/%)
ifeq ($(HAVE_MPI),yes)
MAN_PAGES += $(MPI_MAN_SRCS:%.scd=$(B)/man/%)
endif

$(B)/man/%: $(srcdir)/man/%.scd | $(B)/man
	$(SCDOC) < $< > $@

$(B)/man/%: $(srcdir)/mpi/man/%.scd | $(B)/man
	$(SCDOC) < $< > $@

all: $(LIBS_BUILT) $(B)/tools/lowrank $(B)/lowrank.pc $(CMAKE_FILES) $(MAN_PAGES) $(MPI_BUILT)

# ------------------------------------------------------------ tests
SUITES := core
SUITES += matrix
SUITES += npy
SUITES += opts
SUITES += blas
SUITES += random
SUITES += svd
SUITES += ellipsoid
SUITES += coreset
SUITES += lp
SUITES += lp_entries
SUITES += background
SUITES += progress
SUITES += operator
SUITES += operator_svd
SUITES += scale
SUITES += threads
SUITES += compress
SUITE_BINS := $(SUITES:%=$(B)/tests/check_%)
# Tests link the static archive: they reach the internal layer too, and
# wrapping malloc lets them fail any allocation on purpose.
TEST_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
TEST_CFLAGS = -D_GNU_SOURCE -I$(srcdir)/lib $(CHECK_CFLAGS) -Wno-format-truncation

$(B)/tests/testutil.o: $(srcdir)/tests/testutil.c | $(B)/tests
	$(CC) $(ALL_CPPFLAGS) $(TEST_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/check_%: $(srcdir)/tests/check_%.c $(B)/tests/testutil.o $(B)/lib/liblowrank.a
	$(CC) $(ALL_CPPFLAGS) $(TEST_CFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) \
	    -o $@ $< $(B)/tests/testutil.o $(B)/lib/liblowrank.a $(LIB_LIBS) $(CHECK_LIBS) \
	    $(TEST_WRAP)

# liblowrank_mpi's test program, run under mpirun by tests/test_mpi.sh;
# it links both static archives, so it also shows that they link together.
MPI_CHECK := $(B)/tests/check_mpi
ifneq ($(HAVE_MPI),yes)
MPI_CHECK :=
endif

$(B)/tests/check_mpi: $(srcdir)/tests/check_mpi.c $(B)/tests/testutil.o $(B)/mpi/liblowrank_mpi.a \
                      $(B)/lib/liblowrank.a
	$(CC) -I$(srcdir)/mpi $(ALL_CPPFLAGS) $(MPI_CFLAGS) $(TEST_CFLAGS) $(ALL_CFLAGS) \
	    $(ALL_LDFLAGS) -o $@ $< $(B)/tests/testutil.o $(B)/mpi/liblowrank_mpi.a \
	    $(B)/lib/liblowrank.a $(MPI_LIBS) $(LINALG_LIBS) $(CHECK_LIBS) $(TEST_WRAP)

# Environment of the shell tests: the tools, their libraries, the sources.
TEST_ENV = LOWRANK=$(abspath $(B))/tools/lowrank LD_LIBRARY_PATH=$(abspath $(B))/lib:$(abspath $(B))/mpi \
           SRCDIR=$(srcdir) BUILDDIR=$(abspath $(B)) B=$(B) PYTHON=$(PYTHON) CC="$(CC)" \
           MAKE="$(MAKE)" SANITIZE=$(SANITIZE) HAVE_MPI=$(HAVE_MPI) MPIRUN="$(MPIRUN)" \
           LOWRANK_MPI=$(abspath $(B))/tools/lowrank-mpi
SHELL_TESTS := $(notdir $(wildcard $(srcdir)/tests/test_*.sh))

need-check:
	@if [ "$(HAVE_CHECK)" != yes ]; then \
	    echo "make check needs the Check library: apt-get install check, then ./configure" >&2; \
	    exit 1; fi

check: need-check all $(SUITE_BINS) $(MPI_CHECK) $(B)/demo/compress
	@failed=; \
	for t in $(SUITE_BINS); do \
	    $(TEST_ENV) $$t || failed="$$failed $$(basename $$t)"; done; \
	for t in $(SHELL_TESTS); do \
	    echo "== $$t"; $(TEST_ENV) sh $(srcdir)/tests/$$t || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "FAILED:$$failed" >&2; exit 1; fi; \
	echo "all tests passed"

check-asan:
	$(MAKE) -f $(srcdir)/Makefile B=build-asan SANITIZE=1 check

VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect --suppressions=$(srcdir)/tests/valgrind.supp
# check_mpi under valgrind on two ranks, with the suppressions of what Open MPI
# keeps from MPI_Init (its own file and tests/valgrind-mpi.supp).
VALGRIND_MPI = $(VALGRIND) --num-callers=40 --suppressions=$(srcdir)/tests/valgrind-mpi.supp \
               $(addprefix --suppressions=,$(wildcard /usr/share/openmpi/openmpi-valgrind.supp))
# One valgrind run per suite, as many at once as there are cores (valgrind
# runs a program on one core): the suites are independent, and serially they
# were most of CI's time.  -O keeps each run's output together.  (The fuzz
# harnesses run the same way.)
CORES := $(shell nproc 2>/dev/null || echo 2)
VALGRIND_RUNS := $(SUITES:%=valgrind-%) $(if $(MPI_CHECK),valgrind-mpi)
check-valgrind: need-check $(SUITE_BINS) $(MPI_CHECK)
	@$(MAKE) -f $(srcdir)/Makefile --no-print-directory -k -O -j$(CORES) $(VALGRIND_RUNS) || \
	    { echo "FAILED under valgrind: the valgrind-* targets make names above" >&2; exit 1; }

# The tests' light mode (tests/testutil.c): every 7th allocation failure and
# every 3rd iteration of a loop test; make check runs them all, and
# check-asan does under LeakSanitizer.
VALGRIND_ENV = $(TEST_ENV) LOWRANK_TEST_LIGHT=1
valgrind-%: $(B)/tests/check_%
	@echo "== valgrind $(notdir $<)"; $(VALGRIND_ENV) CK_FORK=no $(VALGRIND) $<

# check_mpi on two ranks (its own rule: not a Check suite of SUITES)
valgrind-mpi: $(MPI_CHECK)
	@echo "== valgrind $(notdir $<), 2 ranks"; \
	$(VALGRIND_ENV) sh -c '. $(srcdir)/tests/lib.sh && mpi_run -np 2 $(VALGRIND_MPI) '$<

# The Check suites (check_threads among them: distinct handles from several
# threads at once) built with ThreadSanitizer in build-tsan/, in the test
# process itself (no fork per test), with OpenBLAS single-threaded and
# nothing suppressed; then check_threads again with OpenBLAS's own threads,
# whose internal hand-offs tests/tsan.supp suppresses (it says which and why).
TSAN_RUN = $(TEST_ENV) CK_FORK=no TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1
TSAN_SUPP := suppressions=$(abspath $(srcdir))/tests/tsan.supp
check-tsan:
	$(MAKE) -f $(srcdir)/Makefile B=build-tsan SANITIZE=thread check-tsan-run

check-tsan-run: need-check $(SUITE_BINS)
	@failed=; \
	for t in $(SUITE_BINS); do \
	    echo "== tsan $$(basename $$t)"; \
	    OPENBLAS_NUM_THREADS=1 $(TSAN_RUN)" $$t || failed="$$failed $$(basename $$t)"; done; \
	echo "== tsan check_threads, OpenBLAS's threads on"; \
	OPENBLAS_NUM_THREADS=2 $(TSAN_RUN) $(TSAN_SUPP)" $(B)/tests/check_threads || \
	    failed="$$failed check_threads(OpenBLAS threads)"; \
	if [ -n "$$failed" ]; then echo "FAILED under ThreadSanitizer:$$failed" >&2; exit 1; fi

# ------------------------------------------------------------ ABI gate
# abi/liblowrank.abi records the ABI of the last release (docs/abi.md).
ABIDW := abidw --headers-dir $(srcdir)/include --no-corpus-path --drop-private-types --no-show-locs

# abi/liblowrank_mpi.abi is liblowrank_mpi's, checked when it is built.
MPI_ABIDW := abidw --headers-dir $(srcdir)/mpi --headers-dir $(srcdir)/include --no-corpus-path \
             --drop-private-types --no-show-locs
ABI_CLEAN := sed -e "s|$(srcdir)/||g" -e "s|comp-dir-path='[^']*'|comp-dir-path='.'|"

abi-check: $(B)/lib/$(SOFILE) $(if $(MPI_BUILT),$(B)/mpi/$(MPI_SOFILE))
	sh $(srcdir)/abi/abi-check.sh $(srcdir)/abi/liblowrank.abi $(B)/lib/$(SONAME) $(srcdir)/include
	$(if $(MPI_BUILT),sh $(srcdir)/abi/abi-check.sh $(srcdir)/abi/liblowrank_mpi.abi \
	    $(B)/mpi/$(MPI_SONAME) $(srcdir)/mpi $(srcdir)/include)
	sh $(srcdir)/abi/abi-selftest.sh $(srcdir) $(SONAME)

abi-baseline: $(B)/lib/$(SOFILE)
	$(ABIDW) $(B)/lib/$(SONAME) | $(ABI_CLEAN) > $(srcdir)/abi/liblowrank.abi

abi-baseline-mpi: $(B)/mpi/$(MPI_SOFILE)
	$(MPI_ABIDW) $(B)/mpi/$(MPI_SONAME) | $(ABI_CLEAN) > $(srcdir)/abi/liblowrank_mpi.abi

# ------------------------------------------------------------ fuzzing
# `make fuzz` builds the libFuzzer harnesses of fuzz/ with clang (the library
# and the tool's sources instrumented, ASan and UBSan on) in $(FZ), then runs
# each for FUZZ_SECONDS from a copy of its seed corpus (fuzz/corpus/NAME)
# and prints how many inputs it ran; docs/fuzzing.md says how to run them
# longer.  `make fuzz-build` only builds them.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 25
FZ := $(B)/build-fuzz
FUZZ_TARGETS := npy image args npz
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FZ)/fuzz_%)
FUZZ_OPT := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=c11 $(FUZZ_OPT) $(WARN) -fsanitize=fuzzer-no-link $(CFLAGS)
FUZZ_OBJS := $(LIB_PARTS:%=$(FZ)/lib/%.o) $(TOOL_PARTS:%=$(FZ)/tools/%.o)

$(FZ)/lib/%.o: $(srcdir)/lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

# the tool's main() is libFuzzer's to provide
$(FZ)/tools/%.o: $(srcdir)/tools/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(ALL_CPPFLAGS) $(IMAGE_CFLAGS) $(FUZZ_CFLAGS) -Dmain=lowrank_tool_main \
	    -Wno-missing-prototypes -c -o $@ $<

$(FZ)/fuzz_%: $(srcdir)/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(ALL_CPPFLAGS) -I$(srcdir)/tools -I$(srcdir)/lib $(IMAGE_CFLAGS) -std=c11 $(FUZZ_OPT) \
	    -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LIB_LIBS) $(IMAGE_LIBS) -lm

# kept between runs (make would delete them as intermediate)
.SECONDARY: $(FUZZ_OBJS)

fuzz-build: $(FUZZ_BINS)

# Built on every core, then one harness per core at a time (libFuzzer runs
# on one): the runs are independent, each with its own corpus copy and log.
fuzz:
	@$(MAKE) -f $(srcdir)/Makefile --no-print-directory -j$(CORES) fuzz-build
	@$(MAKE) -f $(srcdir)/Makefile --no-print-directory -k -O -j$(CORES) \
	    $(FUZZ_TARGETS:%=fuzz-run-%) || { echo "FAILED: the fuzz-run-* targets above" >&2; exit 1; }

fuzz-run-%: $(FZ)/fuzz_%
	@t=$*; rm -rf $(FZ)/corpus-$$t && mkdir -p $(FZ)/corpus-$$t && \
	cp $(srcdir)/fuzz/corpus/$$t/* $(FZ)/corpus-$$t/ && \
	dict=; [ -f $(srcdir)/fuzz/$$t.dict ] && dict=-dict=$(srcdir)/fuzz/$$t.dict; \
	echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	$(FZ)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=3 -print_final_stats=1 \
	    -artifact_prefix=$(FZ)/crash-$$t- $$dict $(FZ)/corpus-$$t > $(FZ)/fuzz_$$t.log 2>&1 \
	    || { tail -n 60 $(FZ)/fuzz_$$t.log; echo "fuzz_$$t FAILED (log: $(FZ)/fuzz_$$t.log)"; \
	         exit 1; }; \
	echo "fuzz_$$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' $(FZ)/fuzz_$$t.log)" \
	     "inputs in $(FUZZ_SECONDS) s, $$(ls $(FZ)/corpus-$$t | wc -l) in the corpus, no failure"

# ------------------------------------------------------------ benchmarks
# `make bench` builds the programs; the scripts in bench/ run them against
# their anchors (see docs/).  One line per part.
BENCH_PROGS := geometry
BENCH_PROGS += svd
BENCH_PROGS += background
BENCH_BINS := $(BENCH_PROGS:%=$(B)/bench/bench_%)

# The background benchmark decodes its frames with the tool's image reader.
$(B)/bench/bench_background: $(srcdir)/bench/bench_background.c $(B)/tools/image.o \
                             $(B)/lib/liblowrank.a
	mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/tools/image.o \
	    $(B)/lib/liblowrank.a $(LINALG_LIBS) $(IMAGE_LIBS)

$(B)/bench/bench_%: $(srcdir)/bench/bench_%.c $(B)/lib/liblowrank.a
	mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -I$(srcdir)/lib $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
	    $(B)/lib/liblowrank.a $(LIB_LIBS)

# ScaLAPACK's pdgesvd, the anchor of bench/mpi.sh: with MPI and
# libscalapack-openmpi-dev only (a benchmark's need, not the library's).
SCALAPACK_PC := scalapack-openmpi
ifeq ($(HAVE_MPI),yes)
ifeq ($(shell $(PKG_CONFIG) --exists $(SCALAPACK_PC) && echo yes),yes)
BENCH_BINS += $(B)/bench/bench_pdgesvd
else
BENCH_NOTE := bench/bench_pdgesvd (bench/mpi.sh's anchor) needs ScaLAPACK: \
              apt-get install libscalapack-openmpi-dev
endif
endif

$(B)/bench/bench_pdgesvd: $(srcdir)/bench/bench_pdgesvd.c $(B)/lib/liblowrank.a
	mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(MPI_CFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
	    $(B)/lib/liblowrank.a $(shell $(PKG_CONFIG) --libs $(SCALAPACK_PC)) $(MPI_LIBS) $(LINALG_LIBS)

bench: $(BENCH_BINS)
	$(if $(BENCH_NOTE),@echo "$(BENCH_NOTE)")

# ------------------------------------------------------------ demo
# demo/compress.c on the bundled weight matrix (demo/data/README.md), then the
# tool's background subtraction on the bundled frames, scored against their
# ground truth.
DEMO_FRAMES := $(srcdir)/tests/data/highway

$(B)/demo/compress: $(srcdir)/demo/compress.c $(B)/lib/liblowrank.so
	mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -L$(B)/lib -llowrank -lm

demo: all $(B)/demo/compress
	@echo "== compress a real layer (demo/data/README.md) by l2 and l1 at ranks 2 to 20"
	@LD_LIBRARY_PATH=$(B)/lib $(B)/demo/compress $(srcdir)/demo/data/mnist_mlp_W1.npy
	@echo "== moving cars on 60 frames of CDnet 2014 highway (tests/data/highway/README.md):"
	@echo "   train on 30, F-measure of the masks of the last 30 against the ground truth"
	@rm -rf $(B)/demo/masks
	@LD_LIBRARY_PATH=$(B)/lib $(B)/tools/lowrank background --train 30 \
	    --groundtruth $(DEMO_FRAMES)/groundtruth $(DEMO_FRAMES)/input $(B)/demo/masks
	@echo "   masks written to $(B)/demo/masks"

# ------------------------------------------------------------ install
pkgconfigdir = $(libdir)/pkgconfig
MAN1 := $(filter %.1,$(MAN_PAGES))
MAN3 := $(filter %.3,$(MAN_PAGES))
MAN7 := $(filter %.7,$(MAN_PAGES))

install: all
	$(INSTALL) -d $(DESTDIR)$(includedir) $(DESTDIR)$(libdir) $(DESTDIR)$(pkgconfigdir) \
	    $(DESTDIR)$(cmakedir) \
	    $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(mandir)/man3 \
	    $(DESTDIR)$(mandir)/man7
	$(INSTALL) -m 644 $(srcdir)/include/lowrank.h $(DESTDIR)$(includedir)/lowrank.h
	$(INSTALL) -m 644 $(B)/lib/$(SOFILE) $(DESTDIR)$(libdir)/$(SOFILE)
	ln -sf $(SOFILE) $(DESTDIR)$(libdir)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(libdir)/liblowrank.so
	$(INSTALL) -m 644 $(B)/lib/liblowrank.a $(DESTDIR)$(libdir)/liblowrank.a
	$(INSTALL) -m 644 $(B)/lowrank.pc $(DESTDIR)$(pkgconfigdir)/lowrank.pc
	$(INSTALL) -m 644 $(CMAKE_FILES) $(DESTDIR)$(cmakedir)/
	$(INSTALL) -m 755 $(B)/tools/lowrank $(DESTDIR)$(bindir)/lowrank
	$(INSTALL) -m 644 $(MAN1) $(DESTDIR)$(mandir)/man1/
	$(INSTALL) -m 644 $(MAN3) $(DESTDIR)$(mandir)/man3/
	$(INSTALL) -m 644 $(MAN7) $(DESTDIR)$(mandir)/man7/

# Exactly what install wrote; directories are left, as they may be shared.
uninstall:
	rm -f $(DESTDIR)$(includedir)/lowrank.h $(DESTDIR)$(libdir)/$(SOFILE) \
	    $(DESTDIR)$(libdir)/$(SONAME) $(DESTDIR)$(libdir)/liblowrank.so \
	    $(DESTDIR)$(libdir)/liblowrank.a $(DESTDIR)$(pkgconfigdir)/lowrank.pc \
	    $(addprefix $(DESTDIR)$(cmakedir)/,$(notdir $(CMAKE_FILES))) \
	    $(DESTDIR)$(bindir)/lowrank
	rm -f $(addprefix $(DESTDIR)$(mandir)/man1/,$(notdir $(MAN1))) \
	    $(addprefix $(DESTDIR)$(mandir)/man3/,$(notdir $(MAN3))) \
	    $(addprefix $(DESTDIR)$(mandir)/man7/,$(notdir $(MAN7)))

# liblowrank_mpi, its header, pkg-config file and tool, when built (its man
# pages are in MAN1/MAN3/MAN7 then).
MPI_INSTALLED := $(includedir)/lowrank_mpi.h $(libdir)/$(MPI_SOFILE) $(libdir)/$(MPI_SONAME) \
                 $(libdir)/liblowrank_mpi.so $(libdir)/liblowrank_mpi.a \
                 $(pkgconfigdir)/lowrank-mpi.pc $(bindir)/lowrank-mpi
ifeq ($(HAVE_MPI),yes)
install: install-mpi
uninstall: uninstall-mpi
endif

install-mpi: all
	$(INSTALL) -d $(DESTDIR)$(includedir) $(DESTDIR)$(libdir) $(DESTDIR)$(pkgconfigdir) \
	    $(DESTDIR)$(bindir)
	$(INSTALL) -m 644 $(srcdir)/mpi/lowrank_mpi.h $(DESTDIR)$(includedir)/lowrank_mpi.h
	$(INSTALL) -m 644 $(B)/mpi/$(MPI_SOFILE) $(DESTDIR)$(libdir)/$(MPI_SOFILE)
	ln -sf $(MPI_SOFILE) $(DESTDIR)$(libdir)/$(MPI_SONAME)
	ln -sf $(MPI_SONAME) $(DESTDIR)$(libdir)/liblowrank_mpi.so
	$(INSTALL) -m 644 $(B)/mpi/liblowrank_mpi.a $(DESTDIR)$(libdir)/liblowrank_mpi.a
	$(INSTALL) -m 644 $(B)/lowrank-mpi.pc $(DESTDIR)$(pkgconfigdir)/lowrank-mpi.pc
	$(INSTALL) -m 755 $(B)/tools/lowrank-mpi $(DESTDIR)$(bindir)/lowrank-mpi

uninstall-mpi:
	rm -f $(addprefix $(DESTDIR),$(MPI_INSTALLED))

# ------------------------------------------------------------ release tarball
# The tracked files of the working tree plus the generated configure, so that
# the tarball builds without autoconf.  Reproducible: sorted, fixed owner.
DIST := liblowrank-$(VERSION)

dist: $(srcdir)/configure
	@git -C $(srcdir) rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
	    { echo "make dist needs the git checkout of liblowrank" >&2; exit 1; }
	rm -f $(DIST).tar.gz
	(cd $(srcdir) && { git ls-files; echo configure; } | while read -r f; do \
	    [ -e "$$f" ] && echo "$$f"; done | LC_ALL=C sort) > $(DIST).files
	tar -C $(srcdir) --transform 's,^,$(DIST)/,' --owner=0 --group=0 --numeric-owner \
	    --mtime=@$$(git -C $(srcdir) log -1 --format=%ct) -cf - -T $(abspath $(DIST).files) \
	    | gzip -n9 > $(DIST).tar.gz
	rm -f $(DIST).files
	@echo "wrote $(DIST).tar.gz"

# Unpack the tarball, build out of its tree, check, install into a DESTDIR and
# uninstall; fail if the build writes into the unpacked sources, if a file
# the build or the tests need is missing from the tarball, or if uninstall
# leaves anything behind.
DC := distcheck.tmp
distcheck: dist
	rm -rf $(DC) && mkdir -p $(DC)/build $(DC)/inst
	tar -xzf $(DIST).tar.gz -C $(DC)
	cd $(DC)/$(DIST) && find . -type f -exec md5sum {} + | LC_ALL=C sort -k2 > ../sources.before
	cd $(DC)/build && ../$(DIST)/configure --prefix=/usr && $(MAKE) && $(MAKE) check && \
	    $(MAKE) install DESTDIR=$(abspath $(DC))/inst && \
	    $(MAKE) uninstall DESTDIR=$(abspath $(DC))/inst
	cd $(DC)/$(DIST) && find . -type f -exec md5sum {} + | LC_ALL=C sort -k2 > ../sources.after
	@if ! cmp -s $(DC)/sources.before $(DC)/sources.after; then \
	    echo "distcheck: the build wrote into the source tree:" >&2; \
	    diff $(DC)/sources.before $(DC)/sources.after >&2; exit 1; fi
	@left=$$(find $(DC)/inst ! -type d); if [ -n "$$left" ]; then \
	    echo "distcheck: uninstall left behind: $$left" >&2; exit 1; fi
	rm -rf $(DC)
	@echo "$(DIST).tar.gz is ready for distribution"

# Debian packages liblowrank0, liblowrank-dev, lowrank-tools, liblowrank-mpi0,
# liblowrank-mpi-dev, lowrank-mpi-tools and python3-lowrank from the tarball,
# then a check of what they hold.
deb: dist
	sh $(srcdir)/packaging/build-deb.sh $(DIST).tar.gz debs
	sh $(srcdir)/packaging/test-debs.sh debs

# ------------------------------------------------------------ housekeeping
$(B)/lib $(B)/tools $(B)/tests $(B)/man $(B)/mpi:
	mkdir -p $@

clean:
	rm -f $(B)/lib/*.o $(B)/lib/*.d $(B)/lib/liblowrank.* $(B)/tools/*.o $(B)/tools/*.d \
	    $(B)/tools/lowrank $(B)/tools/lowrank-mpi $(B)/tests/*.o $(B)/tests/*.d $(B)/bench/*.d \
	    $(B)/lowrank.pc $(B)/lowrank-mpi.pc $(CMAKE_FILES) $(MAN_PAGES) \
	    $(B)/mpi/*.o $(B)/mpi/*.d $(B)/mpi/liblowrank_mpi.* \
	    $(addprefix $(B)/man/,$(MPI_MAN_SRCS:%.scd=%))
	rm -f $(filter-out %.c,$(wildcard $(B)/tests/check_*)) $(BENCH_BINS)
	rm -rf $(B)/demo/compress $(B)/demo/masks $(B)/demo/*.d
	rm -rf build-asan build-tsan build-fuzz distcheck.tmp liblowrank-*.tar.gz debs

distclean: clean
	rm -f config.mk config.status config.log GNUmakefile

FORCE:
.PHONY: all bench demo check check-asan check-valgrind need-check abi-check abi-baseline install \
        fuzz fuzz-build check-tsan check-tsan-run install-mpi uninstall-mpi abi-baseline-mpi \
        uninstall dist distcheck deb clean distclean FORCE

-include $(wildcard $(B)/lib/*.d $(B)/tools/*.d $(B)/tests/*.d $(B)/bench/*.d $(B)/demo/*.d \
                    $(B)/mpi/*.d)
