package io.github.mamba4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code mamba4j <command> args}: the command line's entry point. */
@Command(name = "mamba4j", mixinStandardHelpOptions = true, version = "mamba4j 0.1.0",
        description = "Run Mamba, Mamba-2, Transformer and hybrid language models.",
        subcommands = {GenerateCommand.class, InfoCommand.class, ScoreCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    /** A command line whose failures print one clear message (no stack trace) and exit with status 1. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (verbose(parsed)) e.printStackTrace(cmd.getErr());
            cmd.getErr().println("mamba4j " + cmd.getCommandName() + ": " + message(e));
            return e instanceof UsageError ? 2 : 1;
        });
        return cl;
    }

    private static boolean verbose(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand())
            if (p.hasMatchedOption("--verbose")) return true;
        return false;
    }

    /** The message, or the exception's name when it has none (never an empty line). */
    private static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
