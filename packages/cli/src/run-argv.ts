// What `./gridstream run <service>` execs: it prints the arguments of `env` that start the
// service's process, one per line (the variables of the service's own the environment does not
// set, `node`, its flags and main file), and the script replaces itself with that process (env
// execs node in place), so the service is the one process systemd or Kubernetes watches and
// signals (no wrapper in between). Kept apart from main.ts so that it loads nothing but the table
// of services.
import { RUN_USAGE, serviceArgv, serviceNamed } from './services.ts';

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h' || rest.length > 0) {
  process.stderr.write(`${RUN_USAGE}\n`);
  // Nothing printed: nothing to run. Asked for help is not an error.
  process.exitCode = name === '--help' || name === '-h' ? 0 : 64;
} else {
  const service = serviceNamed(name);
  if (service === undefined) {
    process.stderr.write(`gridstream: no service '${name}'\n\n${RUN_USAGE}\n`);
    process.exitCode = 64;
  } else {
    const own = Object.entries(service.defaultEnv ?? {})
      .filter(([name]) => process.env[name] === undefined)
      .map(([name, value]) => `${name}=${value}`);
    process.stdout.write(`${[...own, 'node', ...serviceArgv(service)].join('\n')}\n`);
  }
}
