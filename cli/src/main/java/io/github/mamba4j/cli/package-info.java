/**
 * The {@code generate}, {@code info} and {@code score} command line (picocli).
 * Not written yet: see the runtime and CLI issues.
 */
package io.github.mamba4j.cli;
