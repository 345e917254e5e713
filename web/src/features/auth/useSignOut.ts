import { useCallback } from 'react';
import { useNavigate } from 'react-router';
import { api } from '../../api/http';
import { resetSeekers } from '../history/controller';
import { resetEffects } from '../live/effects';
import { useLive } from '../live/LiveContext';
import { useAppDispatch } from '../../app/store';
import { loggedOut, resetAll } from './authSlice';

/** Forget everything of the signed-out user in this tab (socket, caches, stores) and go to the login page. */
export function useSignOut(): () => void {
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const live = useLive();
  return useCallback(() => {
    live?.reset();
    resetSeekers();
    resetEffects();
    dispatch(resetAll());
    dispatch(api.util.resetApiState());
    dispatch(loggedOut());
    navigate('/login', { replace: true });
  }, [dispatch, live, navigate]);
}
