# ntscope - the two commands of the README, and the others.
#   make run    build, make the demo dump, run the main job on it
#   make test   build and run every test
# Other targets: build, install (PREFIX=/usr/local), asan, minimal, fuzz, bench, clean.

BUILD       ?= build
CMAKE_FLAGS ?=
PREFIX      ?= /usr/local
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_TIME   ?= 30
DEMO_DIR    ?= $(BUILD)/demo
DEMO        ?= $(DEMO_DIR)/demo.dmp
# The seed machine's RAM: 4167656 pages, so !memusage 0x08 prints the seed's counts.
SEED_RAM    ?= 17070718976
# The main job of the walkthrough (../shared/seed), as far as ntscope answers it today.
# The demo dump is ntscope-mkdump's seed scenario: the seed's machine, a sparse file.
DEMO_CMDS   ?= !analyze -v; vertarget; !sysinfo cpuinfo; !sysinfo machineid; !reg hivelist; !vm; !memusage 8; !process 0 0 D4C.exe; .process /r /p ffffcb0c950ea0c0; !peb; !heap; !leak; .dump /ma /o $(DEMO_DIR)/D4C.dmp
# The same leak in the process dump written by .dump /ma, for those who only handle process dumps.
PDUMP_CMDS  ?= vertarget; ~; lm; !address -summary; !heap -stat; !leak

.PHONY: all build run demo test install asan minimal fuzz bench clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@mkdir -p $(DEMO_DIR)
	$(BUILD)/tools/mkdump/ntscope-mkdump $(DEMO) --scenario seed --ram $(SEED_RAM)

run: demo
	$(BUILD)/ntscope -c '$(DEMO_CMDS)' $(DEMO)
	$(BUILD)/ntscope -c '$(PDUMP_CMDS)' $(DEMO_DIR)/D4C.dmp

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DNTS_SANITIZE=ON -DNTS_WERROR=ON"

minimal:
	$(MAKE) test BUILD=build-minimal CMAKE_FLAGS="-DNTS_MINIMAL=ON -DNTS_WERROR=ON"

fuzz:
	CC=clang cmake -S . -B build-fuzz -DNTS_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j $(JOBS)
	sh fuzz/run.sh build-fuzz $(FUZZ_TIME)

bench: build
	sh bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-minimal build-fuzz
