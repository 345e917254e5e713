import { useId, useState, type FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { useLoginMutation, useSignupMutation } from '../../api/http';
import { describeError } from '../../api/errors';
import ErrorMessage from '../../components/ErrorMessage';
import { useAppDispatch, useAppSelector } from '../../app/store';
import { loggedIn, resetAll } from './authSlice';

const MIN_PASSWORD = 8;
const USERNAME_RE = /^[A-Za-z0-9_.-]{3,32}$/;

/** Only same-app paths are followed after login. */
function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/login') || next.startsWith('/signup')) {
    return '/swarms';
  }
  return next;
}

export default function LoginPage({ mode }: { mode: 'login' | 'signup' }) {
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const auth = useAppSelector((s) => s.auth);
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const [login, loginState] = useLoginMutation();
  const [signup, signupState] = useSignupMutation();
  const busy = loginState.isLoading || signupState.isLoading;
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const uid = useId();
  const errId = `${uid}-err`;
  const isSignup = mode === 'signup';

  if (auth.status === 'authenticated') return <Navigate to={next} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const name = username.trim();
    if (isSignup && !USERNAME_RE.test(name)) {
      setError('Username must be 3–32 characters: letters, digits, dots, dashes or underscores.');
      return;
    }
    if (isSignup && password.length < MIN_PASSWORD) {
      setError(`Password must be at least ${MIN_PASSWORD} characters.`);
      return;
    }
    if (!name || !password) {
      setError('Enter your username and password.');
      return;
    }
    try {
      const res = isSignup
        ? await signup({ username: name, password }).unwrap()
        : await login({ username: name, password }).unwrap();
      if (auth.lastUserId && auth.lastUserId !== res.user.id) {
        // Someone else is logging in: nothing of the previous user's may remain (see app/listeners.ts).
        dispatch(resetAll());
      }
      dispatch(loggedIn(res.user));
      navigate(next, { replace: true });
    } catch (err) {
      setError(describeError(err, mode));
    }
  };

  const title = isSignup ? 'Create your account' : 'Log in';
  return (
    <div className="auth-page">
      <section className="card auth-card" aria-labelledby={`${uid}-title`}>
        <h1 id={`${uid}-title`}>{title}</h1>
        {auth.expired && !isSignup ? (
          <p className="notice" role="status">
            Your session expired. Log in again to pick up where you left off.
          </p>
        ) : null}
        {auth.bootError && !error ? <ErrorMessage>{auth.bootError}</ErrorMessage> : null}
        <form onSubmit={submit} noValidate aria-describedby={error ? errId : undefined}>
          <div className="field">
            <label htmlFor={`${uid}-user`}>Username</label>
            <input
              id={`${uid}-user`}
              name="username"
              autoComplete="username"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              aria-invalid={error ? true : undefined}
              required
            />
            {isSignup ? <p className="hint">3–32 letters, digits, dots, dashes or underscores.</p> : null}
          </div>
          <div className="field">
            <label htmlFor={`${uid}-pass`}>Password</label>
            <input
              id={`${uid}-pass`}
              name="password"
              type="password"
              autoComplete={isSignup ? 'new-password' : 'current-password'}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-invalid={error ? true : undefined}
              required
            />
            {isSignup ? <p className="hint">At least {MIN_PASSWORD} characters.</p> : null}
          </div>
          <ErrorMessage id={errId}>{error}</ErrorMessage>
          <button type="submit" className="primary wide" disabled={busy}>
            {busy ? (isSignup ? 'Creating account…' : 'Logging in…') : isSignup ? 'Sign up' : 'Log in'}
          </button>
        </form>
        <p className="switch">
          {isSignup ? (
            <>
              Already have an account? <Link to={`/login${params.size ? `?${params}` : ''}`}>Log in</Link>
            </>
          ) : (
            <>
              New here? <Link to={`/signup${params.size ? `?${params}` : ''}`}>Create an account</Link>
            </>
          )}
        </p>
      </section>
    </div>
  );
}
