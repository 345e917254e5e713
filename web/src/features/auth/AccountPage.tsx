import { useId, useState, type FormEvent } from 'react';
import { useChangePasswordMutation, useLogoutAllMutation } from '../../api/http';
import { describeError } from '../../api/errors';
import ConfirmDialog from '../../components/ConfirmDialog';
import ErrorMessage from '../../components/ErrorMessage';
import { useSignOut } from './useSignOut';
import { useAppSelector } from '../../app/store';

const MIN_PASSWORD = 8;

/** The account: change the password (other devices are signed out), or sign out everywhere. */
export default function AccountPage() {
  const user = useAppSelector((s) => s.auth.user);
  const uid = useId();
  const signOut = useSignOut();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [everywhereError, setEverywhereError] = useState<string | null>(null);
  const [changePassword, { isLoading: changing }] = useChangePasswordMutation();
  const [logoutAll, { isLoading: leaving }] = useLogoutAllMutation();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    if (next.length < MIN_PASSWORD) return setError(`The new password must be at least ${MIN_PASSWORD} characters.`);
    if (next !== again) return setError('The two new passwords differ.');
    setError(null);
    try {
      await changePassword({ current_password: current, new_password: next }).unwrap();
      setCurrent('');
      setNext('');
      setAgain('');
      setDone(true);
    } catch (err) {
      setError(describeError(err));
    }
  };

  const everywhere = async () => {
    try {
      await logoutAll().unwrap();
    } catch (err) {
      setConfirming(false);
      return setEverywhereError(describeError(err));
    }
    signOut();
  };

  const errId = `${uid}-err`;
  return (
    <div className="account-page">
      <h1>Account</h1>
      <p>
        Signed in as <strong>{user?.username}</strong>.
      </p>
      <section className="card" aria-labelledby={`${uid}-pw`}>
        <h2 id={`${uid}-pw`}>Change password</h2>
        <p className="hint">Every other device signed in to this account is signed out; this one stays.</p>
        <form onSubmit={submit} noValidate aria-describedby={error ? errId : undefined}>
          <div className="field">
            <label htmlFor={`${uid}-cur`}>Current password</label>
            <input id={`${uid}-cur`} type="password" autoComplete="current-password" value={current}
              onChange={(e) => setCurrent(e.target.value)} required />
          </div>
          <div className="field">
            <label htmlFor={`${uid}-new`}>New password</label>
            <input id={`${uid}-new`} type="password" autoComplete="new-password" value={next}
              onChange={(e) => setNext(e.target.value)} required />
            <p className="hint">At least {MIN_PASSWORD} characters; not your username or a common password.</p>
          </div>
          <div className="field">
            <label htmlFor={`${uid}-again`}>New password again</label>
            <input id={`${uid}-again`} type="password" autoComplete="new-password" value={again}
              onChange={(e) => setAgain(e.target.value)} required />
          </div>
          <ErrorMessage id={errId}>{error}</ErrorMessage>
          {done ? (
            <p className="notice" role="status">
              Password changed. Other devices were signed out.
            </p>
          ) : null}
          <button type="submit" className="primary" disabled={changing}>
            {changing ? 'Changing…' : 'Change password'}
          </button>
        </form>
      </section>
      <section className="card" aria-labelledby={`${uid}-all`}>
        <h2 id={`${uid}-all`}>Sign out everywhere</h2>
        <p className="hint">Ends every session of this account, on every device, this one included.</p>
        <ErrorMessage>{everywhereError}</ErrorMessage>
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Log out everywhere
        </button>
      </section>
      <ConfirmDialog
        open={confirming}
        title="Log out everywhere?"
        confirmLabel="Log out everywhere"
        danger
        busy={leaving}
        onConfirm={everywhere}
        onCancel={() => setConfirming(false)}
      >
        Every device signed in to this account, this one too, will have to log in again.
      </ConfirmDialog>
    </div>
  );
}
