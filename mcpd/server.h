/*
 * server.h: mcpd's serving mode: parse the serving flags (mconf.h), open
 * the database, check the tool table, bind the HTTP listeners and run the
 * event loop until SIGTERM or SIGINT. main.c calls it when no subcommand
 * is given.
 */
#ifndef SERVER_H
#define SERVER_H

/* Serves until SIGTERM/SIGINT. Returns the process exit status: 0 after a
 * clean stop, 1 when start-up failed (the reason is logged), 2 for a usage
 * error. argv[0] is the program name; every other element is a flag. */
int mcpd_serve(int argc, char **argv);

#endif
