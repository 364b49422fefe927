/**
 * The command line (picocli): {@code bin/mamba4j <command> args}. {@code score} writes the
 * logits of a token sequence; {@code generate} and {@code info} come with the CLI issue.
 */
package io.github.mamba4j.cli;
